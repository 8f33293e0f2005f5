"""The audit rules: the rules of the catalogue, pure functions over the validated tables.

``run_rules(tables, params, scope="county", county="540102")`` audits one county;
``run_rules(tables, params, scope="city")`` runs the city-wide rules in the roll-up. Each
rule lives in the module of its area (:mod:`~audit.rules.contracts` C1-C10,
:mod:`~audit.rules.staffing` S1-S10, :mod:`~audit.rules.relief` F1-F11), or in the module of
the check it shares with others (:mod:`~audit.rules.disqualifiers` F12-F17, the roll joined
with other departments' lists; :mod:`~audit.rules.duplicates` F18; :mod:`~audit.rules.sequences`
C11 and F19), and is registered in :data:`RULES` by the :func:`rule` decorator.
"""

from __future__ import annotations

from audit.rules import (  # noqa: F401  (importing registers the rules)
    contracts,
    disqualifiers,
    duplicates,
    relief,
    sequences,
    staffing,
)
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
