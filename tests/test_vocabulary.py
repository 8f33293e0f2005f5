"""The vocabulary: each word once, labelled for readers, and the one the contract and the rules use."""

from __future__ import annotations

from audit import vocabulary as v
from audit.datacontract import TABLES
from audit.i18n import LANGS, label
from audit.rules import RULES
from fixtures import ROOT


def test_every_severity_area_and_rule_status_has_a_label_in_each_language():
    keys = [
        *(f"severity.{s}" for s in v.SEVERITIES),
        *(f"area.{a}" for a in v.AREAS),
        *(f"status.{s}" for s in v.RULE_STATUSES),
    ]
    for key in keys:
        assert all(label(key, lang) for lang in LANGS), key
    assert label("severity.info", "zh") == "提示"
    assert label("area.F", "en") == "Relief-fund use"


def test_ranks_follow_the_reading_order():
    assert sorted(["info", "high", "low", "medium"], key=v.SEVERITY_RANK.__getitem__) == [
        "high",
        "medium",
        "low",
        "info",
    ]
    assert sorted("FSC", key=v.AREA_RANK.__getitem__) == ["C", "S", "F"]
    assert tuple(v.AREA_NOTEBOOKS.values()) == v.AREAS
    assert list(v.AREA_NOTEBOOKS) == ["contracts", "staffing", "relief"]


def test_the_contract_allows_exactly_the_funds_and_purposes_of_the_vocabulary():
    for table in ("fund_allocations", "fund_payments"):
        columns = {c.name: c for c in TABLES[table].columns}
        assert columns["fund"].choices == ("社会救助专项资金", "县级财政") == v.FUNDS
        assert columns["purpose"].choices == ("救助金", "购买服务", "其他") == v.PURPOSES


def test_the_catalogue_speaks_the_vocabulary():
    assert {r.area for r in RULES} == set(v.AREAS)
    assert {r.severity for r in RULES} <= set(v.SEVERITIES)
    assert {r.entity_type for r in RULES} <= set(v.ENTITY_TYPES)


def test_no_module_spells_a_word_list_of_the_vocabulary_again():
    # A second copy of a word list is how the words drift apart; the words come from the vocabulary.
    lists = ['"high", "medium", "low", "info"', '("C", "S", "F")', '"社会救助专项资金"', '"县级财政"']
    spelled = [
        f"{path.relative_to(ROOT)}: {words}"
        for path in sorted((ROOT / "src" / "audit").rglob("*.py"))
        if path.name != "vocabulary.py"
        for words in lists
        if words in path.read_text(encoding="utf-8")
    ]
    assert spelled == []
