"""Run the rules of one scope: a county's partition, or the whole city in the roll-up.

``scope="county"`` runs every rule's county part on that county's rows (and the reference
lists whole), and other counties' rows only where its joins need them
(``rules.tables.JOINS``). ``scope="city"`` runs the city-wide parts only (C4's budget
total, C5, S3, S9, F9, and the cross-county halves of F4, S5 and F7) over every county at
once. A city roll-up's register is the county runs' registers plus the city run's,
combined with :func:`audit.findings.combine_registers`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from audit.exceptions import ParameterError, RuleError
from audit.findings import empty_register, sort_register, to_register
from audit.params import Params
from audit.rules.registry import RULES, NotRun, Outcome, Rule, Scope
from audit.rules.tables import Tables, missing_reason

RESULT_COLUMNS = (
    "rule_id",
    "area",
    "scope",
    "county_code",
    "status",
    "n_findings",
    "amount_yuan",
    "reason_zh",
    "reason_en",
)
"""One row per rule run: ``status`` is ``fired``, ``clean`` or ``not_run``, with the reason."""

_NEEDED = ("county_code", "entity_id", "description_zh", "description_en", "evidence")


@dataclass(frozen=True)
class RuleRun:
    """The findings and per-rule results of one run."""

    findings: pd.DataFrame
    results: pd.DataFrame
    scope: str
    county: str | None


def run_rules(
    tables: Mapping[str, pd.DataFrame | None],
    params: Params,
    *,
    scope: Scope,
    area: str | None = None,
    county: str | None = None,
) -> RuleRun:
    """Run every rule of ``area`` (all if None) that has a part in ``scope``."""
    return _run(RULES.select(area=area, scope=scope), tables, params, scope=scope, county=county)


def run_rule(
    rule_id: str,
    tables: Mapping[str, pd.DataFrame | None],
    params: Params,
    *,
    scope: Scope = "county",
    county: str | None = None,
) -> RuleRun:
    """Run one rule's part of ``scope``."""
    rule = RULES[rule_id]
    if scope not in rule.parts:
        raise RuleError(f"rule {rule_id} has no {scope}-scope part; it runs in: {', '.join(rule.scopes)}")
    return _run([rule], tables, params, scope=scope, county=county)


def _run(
    rules: list[Rule],
    tables: Mapping[str, pd.DataFrame | None],
    params: Params,
    *,
    scope: Scope,
    county: str | None,
) -> RuleRun:
    if not isinstance(params, Params):
        raise ParameterError("params must be a Params object: load it with audit.params.load_params")
    bundle = tables if isinstance(tables, Tables) else Tables(tables)
    if scope == "county":
        county = _county_of(bundle, county)
        bundle = bundle.partition(county)
        where = county
    elif scope == "city":
        if county is not None:
            raise ParameterError("county must be None for a city-scope run: the city run reads every county")
        where = params.city_code
    else:
        raise ParameterError(f"scope must be 'county' or 'city', not {scope!r}")

    registers, results = [], []
    for rule in rules:
        register, result = _run_one(rule, bundle, params, scope, where)
        registers.append(register)
        results.append(result)
    findings = pd.concat(registers, ignore_index=True) if registers else empty_register()
    if findings.empty:
        findings = empty_register()
    dupes = findings.loc[findings["finding_id"].duplicated(), "rule_id"].unique().tolist()
    if dupes:
        raise RuleError(f"rules {dupes} raised the same entity twice in one run (a bug in the rule)")
    frame = pd.DataFrame(results, columns=list(RESULT_COLUMNS))
    frame = frame.astype(
        {
            **{c: "str" for c in RESULT_COLUMNS if c not in ("n_findings", "amount_yuan")},
            "n_findings": "int64",
            "amount_yuan": "float64",
        }
    )
    return RuleRun(findings=sort_register(findings), results=frame, scope=scope, county=county)


def _county_of(bundle: Tables, county: str | None) -> str:
    present = bundle.counties()
    if county is not None:
        return county
    if len(present) == 1:
        return present[0]
    raise ParameterError(
        "a county-scope run needs county=...: the tables hold "
        + (", ".join(present) if present else "no county codes")
    )


def _run_one(
    rule: Rule, bundle: Tables, params: Params, scope: Scope, where: str
) -> tuple[pd.DataFrame, dict[str, object]]:
    result: dict[str, object] = {
        "rule_id": rule.id,
        "area": rule.area,
        "scope": scope,
        "county_code": where,
        "n_findings": 0,
        "amount_yuan": np.nan,
    }
    missing = bundle.missing(rule.requires)
    if missing:
        zh, en = missing_reason(missing)
        return empty_register(), {**result, "status": "not_run", "reason_zh": zh, "reason_en": en}
    try:
        out = rule.parts[scope](bundle, params)
    except NotRun as exc:
        return empty_register(), {
            **result,
            "status": "not_run",
            "reason_zh": exc.reason_zh,
            "reason_en": exc.reason_en,
        }
    raw, notes_zh, notes_en = (
        (out.findings, out.notes_zh, out.notes_en) if isinstance(out, Outcome) else (out, (), ())
    )
    lacking = [c for c in _NEEDED if c not in raw.columns]
    if lacking:
        raise RuleError(f"rule {rule.id} returned findings without {lacking}")
    register = to_register(
        raw, rule_id=rule.id, area=rule.area, severity=rule.severity, entity_type=rule.entity_type
    )
    n = len(register)
    if n:
        status, zh, en = "fired", f"发现 {n} 个问题", f"{n} finding{'s' if n > 1 else ''}"
    else:
        status, zh, en = "clean", "未发现问题", "clean"
    return register, {
        **result,
        "status": status,
        "n_findings": n,
        "amount_yuan": register["amount_yuan"].sum(min_count=1),
        "reason_zh": "；".join((zh, *notes_zh)),
        "reason_en": "; ".join((en, *notes_en)),
    }
