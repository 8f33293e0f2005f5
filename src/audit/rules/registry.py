"""The rule registry: each rule of the catalogue is a function registered with its metadata.

Adding a rule is writing one function over the input tables and decorating it with
:func:`rule`. A rule may have two parts: one that runs on a single county's partition
(``scope="county"``) and one that runs over the whole city in the roll-up
(``scope="city"``); the second is added with :meth:`Rule.part`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import pandas as pd

from audit.datacontract import TABLES
from audit.exceptions import RuleError
from audit.params import QUOTED
from audit.vocabulary import AREAS, ENTITY_TYPES, SEVERITIES

if TYPE_CHECKING:
    from audit.params import Params
    from audit.rules.tables import Tables

Scope = Literal["county", "city"]
SCOPES: tuple[Scope, ...] = ("county", "city")

RuleFunction = Callable[["Tables", "Params"], "pd.DataFrame | Outcome"]


class NotRun(Exception):
    """Raised by a rule that cannot run on the data it was given; the reason goes in the results."""

    def __init__(self, reason_zh: str, reason_en: str) -> None:
        super().__init__(reason_en)
        self.reason_zh, self.reason_en = reason_zh, reason_en


@dataclass(frozen=True)
class Outcome:
    """What a rule returns when it has something to say besides its findings (a partial run)."""

    findings: pd.DataFrame
    notes_zh: tuple[str, ...] = ()
    notes_en: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleTexts:
    """A rule's texts in one language, with the parameters they quote filled in."""

    title: str
    basis: str
    recommendation: str


@dataclass
class Rule:
    """One rule of the catalogue: its metadata and the function of each scope it runs in."""

    id: str
    area: str
    title_zh: str
    title_en: str
    severity: str
    entity_type: str
    requires: tuple[str, ...]
    optional: tuple[str, ...]
    basis_zh: str
    basis_en: str
    recommendation_zh: str
    recommendation_en: str
    parts: dict[str, RuleFunction] = field(default_factory=dict)

    @property
    def number(self) -> int:
        """The rule's number within its area (C7 -> 7), for catalogue order."""
        return int(self.id[1:])

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes this rule has a part in, county first."""
        return tuple(s for s in SCOPES if s in self.parts)

    def part(self, scope: Scope) -> Callable[[RuleFunction], RuleFunction]:
        """Decorator adding the function of ``scope`` to this rule (e.g. a city-wide part)."""
        _check_scope(scope)

        def decorate(fn: RuleFunction) -> RuleFunction:
            if scope in self.parts:
                raise RuleError(f"rule {self.id} already has a {scope}-scope part")
            self.parts[scope] = fn
            return fn

        return decorate

    def texts(self, params: Params, lang: Literal["zh", "en"]) -> RuleTexts:
        """Title, basis and recommendation in ``lang``, quoting ``params`` where they say ``{name}``."""
        words = params.quoted(lang)
        return RuleTexts(
            *(
                getattr(self, f"{field}_{lang}").format_map(words)
                for field in ("title", "basis", "recommendation")
            )
        )

    def __call__(self, tables: Tables, params: Params, scope: Scope = "county") -> pd.DataFrame | Outcome:
        """Call the part of ``scope`` directly (tests and notebooks; no missing-table handling)."""
        return self.parts[scope](tables, params)


class RuleRegistry:
    """Rules by id, iterated in catalogue order (C, S, F, then by number)."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def register(self, rule: Rule) -> Rule:
        """Add ``rule``; raise RuleError if its id is taken or its metadata is malformed."""
        _check_metadata(rule)
        if rule.id in self._rules:
            raise RuleError(f"rule {rule.id} is already registered")
        self._rules[rule.id] = rule
        return rule

    def __getitem__(self, rule_id: str) -> Rule:
        try:
            return self._rules[rule_id]
        except KeyError:
            known = ", ".join(r.id for r in self)
            raise RuleError(f"unknown rule {rule_id!r}; known rules: {known}") from None

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __iter__(self) -> Iterator[Rule]:
        return iter(sorted(self._rules.values(), key=lambda r: (AREAS.index(r.area), r.number)))

    def __len__(self) -> int:
        return len(self._rules)

    def ids(self) -> tuple[str, ...]:
        """Every rule id in catalogue order."""
        return tuple(r.id for r in self)

    def select(self, *, area: str | None = None, scope: Scope | None = None) -> list[Rule]:
        """Rules of ``area`` (all if None) that have a part in ``scope`` (any if None)."""
        if area is not None and area not in AREAS:
            raise RuleError(f"unknown area {area!r}; use one of {', '.join(AREAS)}")
        if scope is not None:
            _check_scope(scope)
        return [r for r in self if (area is None or r.area == area) and (scope is None or scope in r.parts)]


RULES = RuleRegistry()
"""The catalogue: every rule of :mod:`audit.rules.contracts`, ``staffing`` and ``relief``."""


def rule(
    id: str,
    *,
    title_zh: str,
    title_en: str,
    severity: str,
    entity_type: str,
    requires: tuple[str, ...],
    optional: tuple[str, ...] = (),
    scope: Scope = "county",
    basis_zh: str,
    basis_en: str,
    recommendation_zh: str,
    recommendation_en: str,
    registry: RuleRegistry = RULES,
) -> Callable[[RuleFunction], Rule]:
    """Decorator registering a function as the ``scope`` part of rule ``id`` (area from its letter)."""

    def decorate(fn: RuleFunction) -> Rule:
        _check_scope(scope)
        new = Rule(
            id=id,
            area=id[:1],
            title_zh=title_zh,
            title_en=title_en,
            severity=severity,
            entity_type=entity_type,
            requires=tuple(requires),
            optional=tuple(optional),
            basis_zh=basis_zh,
            basis_en=basis_en,
            recommendation_zh=recommendation_zh,
            recommendation_en=recommendation_en,
            parts={scope: fn},
        )
        return registry.register(new)

    return decorate


def _check_scope(scope: str) -> None:
    if scope not in SCOPES:
        raise RuleError(f"unknown scope {scope!r}; use one of {', '.join(SCOPES)}")


def _check_metadata(rule: Rule) -> None:
    # Malformed metadata is a programming error caught at import, not at the inspector's desk.
    if not re.fullmatch(rf"[{''.join(AREAS)}][1-9][0-9]?", rule.id):
        raise RuleError(f"rule id {rule.id!r} is not an area letter {'/'.join(AREAS)} and a number")
    if rule.severity not in SEVERITIES:
        raise RuleError(f"rule {rule.id}: severity {rule.severity!r} is not one of {', '.join(SEVERITIES)}")
    if rule.entity_type not in ENTITY_TYPES:
        raise RuleError(f"rule {rule.id}: entity type {rule.entity_type!r} is not one of {ENTITY_TYPES}")
    unknown = [t for t in (*rule.requires, *rule.optional) if t not in TABLES]
    if unknown:
        raise RuleError(f"rule {rule.id}: unknown tables {unknown}; tables are {', '.join(TABLES)}")
    if not rule.requires:
        raise RuleError(f"rule {rule.id}: names no table it reads")
    for name in ("title", "basis", "recommendation"):
        for lang in ("zh", "en"):
            text = getattr(rule, f"{name}_{lang}")
            try:
                quoted = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
            except ValueError as exc:
                raise RuleError(
                    f"rule {rule.id}: {name}_{lang} is not a valid text template: {exc}"
                ) from None
            unknown = sorted(quoted - set(QUOTED))
            if unknown:
                raise RuleError(
                    f"rule {rule.id}: {name}_{lang} quotes unknown {unknown}; "
                    f"a text may quote {', '.join(QUOTED)}"
                )
